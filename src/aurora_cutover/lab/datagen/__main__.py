from aurora_cutover.lab.datagen.cli import main

raise SystemExit(main())
