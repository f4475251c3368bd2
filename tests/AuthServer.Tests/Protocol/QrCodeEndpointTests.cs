using System.Diagnostics;
using System.Net;
using AuthServer.Tests.Infrastructure;

namespace AuthServer.Tests.Protocol;

public sealed class QrCodeEndpointTests(AuthServerFactory factory) : IClassFixture<AuthServerFactory>
{
    private readonly HttpClient _http = factory.CreateClient();

    [Fact]
    public async Task The_png_qr_code_decodes_with_zbarimg_to_verification_uri_complete()
    {
        var started = await _http.StartAsync();
        var response = await _http.GetAsync($"/device/qr?user_code={started.Get("user_code")}&format=png");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("image/png");

        var decoded = await DecodeAsync(await response.Content.ReadAsByteArrayAsync(), ".png");

        decoded.ShouldBe(started.Get("verification_uri_complete"));
    }

    [Fact]
    public async Task The_svg_qr_code_is_served_as_svg()
    {
        var started = await _http.StartAsync();

        var response = await _http.GetAsync($"/device/qr?user_code={started.Get("user_code")}&format=svg");

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("image/svg+xml");
        (await response.Content.ReadAsStringAsync()).ShouldContain("<svg");
    }

    [Theory]
    [InlineData("png")]
    [InlineData("svg")]
    public async Task Live_expired_and_unknown_codes_get_the_same_answer_so_it_tells_nothing(string format)
    {
        var expired = await _http.StartAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(5));
        var live = await _http.StartAsync();

        var answers = new List<HttpResponseMessage>();
        foreach (var code in new[] { live.Get("user_code"), expired.Get("user_code"), "BCDF-GHJK" })
            answers.Add(await _http.GetAsync($"/device/qr?user_code={code}&format={format}"));

        foreach (var answer in answers)
        {
            answer.StatusCode.ShouldBe(HttpStatusCode.OK);
            // Only the length may differ, with the compressed image of a different URL.
            Headers(answer).ShouldBe(Headers(answers[0]));
            Headers(answer).ShouldContain("Cache-Control: no-store");
            (await answer.Content.ReadAsByteArrayAsync()).Length.ShouldBeGreaterThan(0);
        }
    }

    [Fact]
    public async Task An_unknown_well_formed_code_decodes_to_its_own_verification_uri_complete()
    {
        var response = await _http.GetAsync("/device/qr?user_code=bcdf ghjk");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);

        var decoded = await DecodeAsync(await response.Content.ReadAsByteArrayAsync(), ".png");

        decoded.ShouldBe("http://localhost/device?user_code=BCDF-GHJK");
    }

    [Theory]
    [InlineData("")]
    [InlineData("BCDF-GHJ")]
    [InlineData("BCDF-GHJKL")]
    [InlineData("ABCD-EFGH")]
    [InlineData("BCDF%00GHJK")]
    public async Task A_malformed_code_is_a_bad_request(string code)
    {
        var answer = await Infrastructure.Protocol.ReadAsync(await _http.GetAsync($"/device/qr?user_code={code}"));

        answer.ShouldBeProblem(HttpStatusCode.BadRequest, "Malformed user code");
        answer.Json.GetProperty("detail").GetString()!.ShouldContain("user_code must be 8 characters");
    }

    [Fact]
    public async Task A_missing_code_is_a_bad_request()
    {
        var answer = await Infrastructure.Protocol.ReadAsync(await _http.GetAsync("/device/qr"));

        answer.ShouldBeProblem(HttpStatusCode.BadRequest, "Malformed user code");
    }

    /// <summary>The headers that could tell one code from another: not the length, nor the per-request correlation id.</summary>
    private static List<string> Headers(HttpResponseMessage response) =>
        response.Headers.Concat(response.Content.Headers)
            .Where(h => h.Key != "Content-Length" && h.Key != AuthServer.Hosting.CorrelationId.Header)
            .Select(h => $"{h.Key}: {string.Join(", ", h.Value)}")
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public async Task An_unsupported_format_is_a_bad_request()
    {
        var started = await _http.StartAsync();

        var response = await _http.GetAsync($"/device/qr?user_code={started.Get("user_code")}&format=gif");

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    /// <summary>Decodes with zbarimg (installed by test.sh), the way a phone's camera would.</summary>
    private static async Task<string> DecodeAsync(byte[] image, string extension)
    {
        var file = Path.Combine(Path.GetTempPath(), $"qr-{Guid.NewGuid():N}{extension}");
        await File.WriteAllBytesAsync(file, image);
        try
        {
            var zbar = Process.Start(new ProcessStartInfo("zbarimg", ["-q", "--raw", file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new InvalidOperationException("zbarimg did not start; run ./test.sh, which installs zbar-tools");
            var output = await zbar.StandardOutput.ReadToEndAsync();
            await zbar.WaitForExitAsync();
            zbar.ExitCode.ShouldBe(0, "zbarimg found no QR code");
            return output.Trim();
        }
        finally
        {
            File.Delete(file);
        }
    }
}
