"""One module per page family; each gives its ROUTES."""
