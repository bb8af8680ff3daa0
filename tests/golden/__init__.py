"""Golden cases run through both runtimes: Python's shared/ and the page's JavaScript."""
