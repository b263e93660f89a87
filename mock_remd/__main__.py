from mock_remd.cli.main import main

raise SystemExit(main())
