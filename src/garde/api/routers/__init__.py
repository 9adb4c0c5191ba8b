"""One router per concept under ``/api/v1``; each route a thin edge over one library function."""
