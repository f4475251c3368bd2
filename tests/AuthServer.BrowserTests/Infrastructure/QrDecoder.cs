using System.Diagnostics;

namespace AuthServer.BrowserTests.Infrastructure;

public static class QrDecoder
{
    /// <summary>Decodes the QR code in an image with zbarimg (installed by ./test.sh), the way a phone's camera would.</summary>
    public static async Task<string> DecodeAsync(byte[] image)
    {
        var file = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"qr-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(file, image);
        try
        {
            using var zbar = Process.Start(new ProcessStartInfo("zbarimg", ["-q", "--raw", file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new InvalidOperationException("zbarimg did not start; run ./test.sh, which installs zbar-tools");
            var output = zbar.StandardOutput.ReadToEndAsync();
            var errors = zbar.StandardError.ReadToEndAsync();
            using (var timeout = new CancellationTokenSource(BrowserFixture.Timeout))
                await zbar.WaitForExitAsync(timeout.Token);
            zbar.ExitCode.ShouldBe(0, $"zbarimg found no QR code: {await errors}");
            return (await output).Trim();
        }
        finally
        {
            File.Delete(file);
        }
    }
}
