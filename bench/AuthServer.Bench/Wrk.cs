using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace AuthServer.Bench;

/// <summary>Runs wrk (loopback, bounded duration) and reads its request count, requests/s and latency percentiles.</summary>
public static partial class Wrk
{
    /// <summary><paramref name="Requests"/> counts every answered request, whatever its status, as wrk does.</summary>
    public sealed record Result(long Requests, double RequestsPerSecond, double P50Ms, double P99Ms, long Non2xx)
    {
        /// <summary>
        /// Runs taken at the same time against several nodes as one: requests and rates add up; the latency
        /// percentiles are the worst node's, which over-states rather than hides a slow node.
        /// </summary>
        public static Result Sum(IReadOnlyList<Result> parts) => parts.Count == 1 ? parts[0] : new(
            parts.Sum(p => p.Requests), parts.Sum(p => p.RequestsPerSecond), parts.Max(p => p.P50Ms), parts.Max(p => p.P99Ms), parts.Sum(p => p.Non2xx));
    }

    public static bool Available()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("wrk", ["-v"]) { RedirectStandardOutput = true, RedirectStandardError = true });
            probe!.WaitForExit(5000);
            return true;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    public static async Task<Result> RunAsync(Uri url, TimeSpan duration, int connections, string? luaScript = null)
    {
        // wrk drops an answer slower than its timeout (2 s by default) as a timeout, uncounted; under load the stock
        // OpenIddict server's pending poll can take that long, and it must be counted, not lost.
        var args = new List<string> { "-t1", $"-c{connections}", $"-d{(int)duration.TotalSeconds}s", "--timeout", "10s", "--latency" };
        string? scriptFile = null;
        if (luaScript is not null)
        {
            scriptFile = Path.Combine(Path.GetTempPath(), $"bench-{Guid.NewGuid():N}.lua");
            await File.WriteAllTextAsync(scriptFile, luaScript);
            args.AddRange(["-s", scriptFile]);
        }
        args.Add(url.ToString());
        try
        {
            using var wrk = Process.Start(new ProcessStartInfo("wrk", args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            var output = await wrk.StandardOutput.ReadToEndAsync();
            await wrk.WaitForExitAsync();
            var requests = TotalRequests().Match(output) is { Success: true } total ? long.Parse(total.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            var rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var non2xx = NonSuccess().Match(output) is { Success: true } m ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
            return new Result(requests, rps, Latency(output, "50%"), Latency(output, "99%"), non2xx);
        }
        finally
        {
            if (scriptFile is not null) File.Delete(scriptFile);
        }
    }

    /// <summary>wrk prints "50%  1.23ms" (or us / s) in its latency distribution.</summary>
    private static double Latency(string output, string percentile)
    {
        var match = Regex.Match(output, $@"\s{Regex.Escape(percentile)}\s+([\d.]+)(us|ms|s)");
        if (!match.Success) return double.NaN;
        var value = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        return match.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
    }

    /// <summary>wrk's summary line: "123456 requests in 3.00s, 12.34MB read".</summary>
    [GeneratedRegex(@"(\d+) requests in ")]
    private static partial Regex TotalRequests();

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")]
    private static partial Regex NonSuccess();
}
