"""`python -m risiti.cli`: how `risiti dev` and `risiti api --processes` start their children."""

from risiti.cli import main

main()
