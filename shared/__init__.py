"""The poker language shared by the API, the workers and the web screens: events, money, the session reducer."""
