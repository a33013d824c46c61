"""One module per stage; each asset reads, calls one core function, writes and returns metadata."""
