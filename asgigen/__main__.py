from asgigen.cli import main

main()
