"""The screens, one module each: home, live session, session history and session detail."""
