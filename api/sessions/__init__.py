"""Sessions: live state, the list, the events and the SSE stream."""
