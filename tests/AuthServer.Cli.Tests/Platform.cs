// The tests drive a pseudo-terminal with util-linux `script` and check Unix file modes: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
