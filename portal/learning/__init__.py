"""What a review's learning becomes: the action plan, briefings for practitioners, the public learning pages."""
