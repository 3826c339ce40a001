from chaos.main import entry

entry()
