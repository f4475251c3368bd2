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

    [Fact]
    public async Task An_unknown_code_has_no_qr_code()
    {
        var response = await _http.GetAsync("/device/qr?user_code=BCDF-GHJK");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("application/problem+json");
    }

    [Fact]
    public async Task An_expired_code_has_no_qr_code()
    {
        var started = await _http.StartAsync();
        factory.Clock.Advance(TimeSpan.FromMinutes(5));

        var response = await _http.GetAsync($"/device/qr?user_code={started.Get("user_code")}");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

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
