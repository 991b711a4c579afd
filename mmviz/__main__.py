import sys

from mmviz.cli import main

sys.exit(main())
