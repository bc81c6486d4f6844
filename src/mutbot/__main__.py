from mutbot.cli import main

raise SystemExit(main())
