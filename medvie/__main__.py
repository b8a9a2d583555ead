from medvie.cli import main

main()
