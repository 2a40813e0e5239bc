"""The shorthand language, pure: text in, request or ParseError out."""
