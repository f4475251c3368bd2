using System.Text;
using Microsoft.Playwright;

namespace AuthServer.BrowserTests.Infrastructure;

/// <summary>
/// A camera for Chromium that films one picture: the QR code a waiting page shows, written as a Y4M file (YUV4MPEG2,
/// 4:2:0) that Chromium plays in a loop with <c>--use-file-for-fake-video-capture</c>. The picture is read from the
/// page itself (its QR image drawn on a canvas), so the phone sees exactly what a person would point a camera at.
/// </summary>
public static class FakeCamera
{
    public const int Width = 640;
    public const int Height = 480;
    private const int Frames = 5;

    /// <summary>The launch flags that turn the fake camera on and skip the permission prompt.</summary>
    public static string[] Flags(string y4mFile) =>
    [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", $"--use-file-for-fake-video-capture={y4mFile}",
    ];

    /// <summary>The RGBA pixels of the element <paramref name="image"/> (an &lt;img&gt; of this origin) at its natural size.</summary>
    public static async Task<(int Width, int Height, byte[] Rgba)> ReadImageAsync(ILocator image)
    {
        var pixels = await image.EvaluateAsync<System.Text.Json.JsonElement>("""
            img => {
              const canvas = document.createElement('canvas');
              canvas.width = img.naturalWidth;
              canvas.height = img.naturalHeight;
              const context = canvas.getContext('2d');
              context.drawImage(img, 0, 0);
              const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
              let text = '';
              for (let i = 0; i < data.length; i += 8192) text += String.fromCharCode(...data.subarray(i, i + 8192));
              return { width: canvas.width, height: canvas.height, rgba: btoa(text) };
            }
            """);
        return (pixels.GetProperty("width").GetInt32(), pixels.GetProperty("height").GetInt32(),
            Convert.FromBase64String(pixels.GetProperty("rgba").GetString()!));
    }

    /// <summary>
    /// Writes a Y4M file: the image scaled (nearest neighbour, so the modules stay sharp) to fit the frame's height with
    /// a white margin around it, in full-range luma (C420jpeg); chroma is neutral, since a QR code has no colour.
    /// </summary>
    public static void WriteY4m(string path, int width, int height, byte[] rgba)
    {
        var luma = new byte[Width * Height];
        Array.Fill(luma, (byte)255);
        var side = Height * 3 / 4;
        var left = (Width - side) / 2;
        var top = (Height - side) / 2;
        for (var y = 0; y < side; y++)
        {
            var sourceY = y * height / side;
            for (var x = 0; x < side; x++)
            {
                var sourceX = x * width / side;
                var i = (sourceY * width + sourceX) * 4;
                var alpha = rgba[i + 3] / 255.0;
                // A transparent pixel is the page's white background.
                var gray = alpha * (0.299 * rgba[i] + 0.587 * rgba[i + 1] + 0.114 * rgba[i + 2]) + (1 - alpha) * 255;
                luma[(top + y) * Width + left + x] = (byte)Math.Clamp(Math.Round(gray), 0, 255);
            }
        }
        var chroma = new byte[Width / 2 * (Height / 2)];
        Array.Fill(chroma, (byte)128);

        using var file = File.Create(path);
        file.Write(Encoding.ASCII.GetBytes($"YUV4MPEG2 W{Width} H{Height} F10:1 Ip A1:1 C420jpeg\n"));
        for (var frame = 0; frame < Frames; frame++)
        {
            file.Write("FRAME\n"u8);
            file.Write(luma);
            file.Write(chroma); // U
            file.Write(chroma); // V
        }
    }
}
