from regua.cli.main import app

app()
