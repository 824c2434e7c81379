"""Demo and development tools, kept apart from the production code: playing the platform.

``simulator`` builds and signs pushes as the platform does; the commands seed the demo
(``seed_demo``), build a large data set (``seed_bulk``), send pushes (``send_push``), serve the fake
platform (``fake_platform``) and print the demo's logins (``demo_admin``). Nothing in production
code imports this package.
"""
