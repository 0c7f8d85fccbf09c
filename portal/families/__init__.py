"""Family members of a review: their details, what they are told, and their own pages."""
