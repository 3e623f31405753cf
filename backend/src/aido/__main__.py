from aido.serve import main

main()
