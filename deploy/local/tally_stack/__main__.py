from tally_stack.cli import main

raise SystemExit(main())
