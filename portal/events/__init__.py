"""Learning events: registration with a waiting list, calendar invitations, attendance and reflections."""
