using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;

namespace AuthServer.Cli.Tests.Infrastructure;

/// <summary>
/// Turns the half-block QR code the CLI printed back into pixels, as a screenshot of the terminal would, and decodes
/// it with zbarimg: '█' is two dark modules stacked, '▀' the upper one, '▄' the lower one, a space two light ones.
/// </summary>
public static class TerminalQrImage
{
    private const int Scale = 8;
    private const int Margin = 4;

    /// <summary>The first block of consecutive lines made of block characters in <paramref name="text"/> (escapes stripped).</summary>
    public static IReadOnlyList<string> FirstCode(string text)
    {
        // A terminal line is what follows its last carriage return; a pty ends lines with "\r\n".
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l[(l.LastIndexOf('\r') + 1)..]);
        var code = lines.SkipWhile(l => !IsCodeLine(l)).TakeWhile(IsCodeLine).ToList();
        code.ShouldNotBeEmpty($"no QR code in the output:\n{text}");
        return code;
    }

    private static bool IsCodeLine(string line) =>
        line.Length > 10 && line.All(c => c is ' ' or '█' or '▀' or '▄') && line.Any(c => c != ' ');

    public static byte[] Png(IReadOnlyList<string> code)
    {
        var modulesWide = code.Max(l => l.Length);
        var modulesHigh = code.Count * 2;
        var width = (modulesWide + 2 * Margin) * Scale;
        var height = (modulesHigh + 2 * Margin) * Scale;
        var pixels = new byte[height, width];
        for (var y = 0; y < height; y++)
            for (var x = 0; x < width; x++)
                pixels[y, x] = 255;
        for (var row = 0; row < code.Count; row++)
        {
            for (var column = 0; column < code[row].Length; column++)
            {
                var (top, bottom) = code[row][column] switch
                {
                    '█' => (true, true),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    _ => (false, false),
                };
                if (top) Fill(pixels, column, row * 2);
                if (bottom) Fill(pixels, column, row * 2 + 1);
            }
        }
        return Encode(pixels, width, height);
    }

    public static async Task<string> DecodeAsync(IReadOnlyList<string> code)
    {
        var file = Path.Combine(Path.GetTempPath(), $"terminal-qr-{Guid.NewGuid():N}.png");
        await File.WriteAllBytesAsync(file, Png(code));
        try
        {
            using var zbar = Process.Start(new ProcessStartInfo("zbarimg", ["-q", "--raw", file])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            }) ?? throw new InvalidOperationException("zbarimg did not start; run ./test.sh, which installs zbar-tools");
            var output = zbar.StandardOutput.ReadToEndAsync();
            var errors = zbar.StandardError.ReadToEndAsync();
            await zbar.WaitForExitAsync();
            zbar.ExitCode.ShouldBe(0, $"zbarimg found no QR code: {await errors}\n{string.Join('\n', code)}");
            return (await output).Trim();
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static void Fill(byte[,] pixels, int moduleX, int moduleY)
    {
        for (var y = 0; y < Scale; y++)
            for (var x = 0; x < Scale; x++)
                pixels[(moduleY + Margin) * Scale + y, (moduleX + Margin) * Scale + x] = 0;
    }

    /// <summary>An 8-bit greyscale PNG (RFC 2083): IHDR, one IDAT of zlib-compressed rows with filter 0, IEND.</summary>
    private static byte[] Encode(byte[,] pixels, int width, int height)
    {
        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = 0;
        Chunk(png, "IHDR", header);
        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[width + 1];
            for (var y = 0; y < height; y++)
            {
                row[0] = 0;
                for (var x = 0; x < width; x++) row[x + 1] = pixels[y, x];
                zlib.Write(row);
            }
        }
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        var crc = Crc32(typeBytes.Concat(data).ToArray());
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        png.Write(crcBytes);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
