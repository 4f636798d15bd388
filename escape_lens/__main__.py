from escape_lens.cli import entry

entry()
