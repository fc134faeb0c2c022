"""Local stand-ins for services the tests cannot reach here (Google Translate, Edge's speech service, TTS providers)."""
