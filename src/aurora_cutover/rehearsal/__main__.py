from aurora_cutover.rehearsal.run import main

raise SystemExit(main())
