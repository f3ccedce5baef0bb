from mou_tracker.cli import main

main()
