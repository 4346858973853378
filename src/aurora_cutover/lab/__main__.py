from aurora_cutover.lab.cli import main

raise SystemExit(main())
