"""`raazdar-submit`: the end-to-end submission client that seals on the source's own device."""
