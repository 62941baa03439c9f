"""One module per bank: its CNAB 400 layout (``CNAB400``) and CNAB 240 deviations (``CNAB240``),
taken from the bank's own manual. ``registry`` collects them; nothing else reads these modules.
"""
