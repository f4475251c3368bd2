namespace AuthServer.Bench;

public static class Stats
{
    public static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToArray();
        var rank = p / 100 * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = (int)Math.Ceiling(rank);
        return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
    }

    public static double Median(IReadOnlyList<double> values) => Percentile(values, 50);

    /// <summary>Three significant figures at least, whatever the scale: 0.0712 ms, 0.784, 42.5, 1,154.</summary>
    public static string Format(double value) => double.IsNaN(value) ? "n/a" : Math.Abs(value) switch
    {
        >= 100 => value.ToString("N0"),
        >= 10 => value.ToString("F1"),
        >= 1 => value.ToString("F2"),
        _ => value.ToString("G3"),
    };

    /// <summary>"1 pair", "7 pairs".</summary>
    public static string Count(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";
}
