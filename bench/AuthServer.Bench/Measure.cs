namespace AuthServer.Bench;

/// <summary>One figure of a run. The name is the same in every run, so that runs can be set side by side.</summary>
public sealed record Measure(string Name, double Value, string Unit, string Note = "");
