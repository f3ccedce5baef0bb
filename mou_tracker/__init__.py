"""mou-tracker: monitor an MoU partnership programme and track its grant."""

__version__ = "0.1.0"
