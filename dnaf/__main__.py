from dnaf.cli import main

raise SystemExit(main())
