"""Pure programme rules: periods, fiscal labels, status bands, money, identity, codes.

Nothing here imports SQLAlchemy or Textual.
"""
