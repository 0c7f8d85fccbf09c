"""Reviews: the case lifecycle, need-to-know memberships and the statutory clocks."""
