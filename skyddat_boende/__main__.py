import sys

from skyddat_boende.cli import main

sys.exit(main())
