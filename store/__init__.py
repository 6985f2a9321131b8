"""The demo store's operator-editable data: facts used in answers (`facts.yml`)."""
