"""Rooms: announcements, schedule, reservations, stream lifecycle, materials."""
