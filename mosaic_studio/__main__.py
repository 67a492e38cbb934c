"""`python -m mosaic_studio` is the `mosaic` command."""

from mosaic_studio.cli.main import main

raise SystemExit(main())
