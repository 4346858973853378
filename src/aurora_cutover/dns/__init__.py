"""The one switch: the Route 53 record the application follows, and how names resolve."""
