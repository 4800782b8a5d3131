"""The team server's pages, one router per area: sign-in (auth), sheets (uploads), purchases (runs)."""
