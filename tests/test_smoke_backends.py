from mou_tracker.domain.periods import Quarter
from mou_tracker.services.indicators import IndicatorEngine


def test_seeded_framework_has_every_indicator(services, db):
    with db.reading() as s:
        progress = IndicatorEngine(s, services.partnership_id).progress(Quarter(2025, 3))
    assert [f.code for f in progress.indicators] == ["OC1", "OC2", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2",
                                                     "2.3", "3.1", "3.2", "4.1"]
