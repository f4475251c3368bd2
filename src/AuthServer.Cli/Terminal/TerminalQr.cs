using System.Text;
using QRCoder;

namespace AuthServer.Cli.Terminal;

/// <summary>
/// A QR code drawn with half-block characters: each character is one module wide and two tall, so the code is square
/// on a terminal whose cells are about twice as tall as they are wide. '█', '▀' and '▄' are dark modules, space is
/// light. On a colour terminal the code is painted black on white, whatever the terminal's own colours, so phones read
/// it on dark themes too.
/// </summary>
public static class TerminalQr
{
    /// <summary>Two modules of quiet zone: less than the four ISO/IEC 18004 asks for, but phone cameras read it, and it fits more terminals.</summary>
    public const int QuietZone = 2;

    /// <summary>The lines of the code, or null when it does not fit in <paramref name="columns"/> × <paramref name="rows"/>.</summary>
    public static IReadOnlyList<string>? Render(string text, int columns, int rows, bool colour)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        var matrix = data.ModuleMatrix;
        // QRCoder adds its own four-module quiet zone around the symbol; keep only QuietZone of it.
        const int Generated = 4;
        var trim = Generated - QuietZone;
        var size = matrix.Count - 2 * trim;
        var height = (size + 1) / 2;
        if (size > columns || height > rows) return null;

        bool Dark(int x, int y) => y < size && matrix[y + trim][x + trim];
        var lines = new List<string>(height);
        for (var y = 0; y < size; y += 2)
        {
            var line = new StringBuilder(size + 16);
            if (colour) line.Append("\e[30;47m");
            for (var x = 0; x < size; x++)
            {
                line.Append((Dark(x, y), Dark(x, y + 1)) switch
                {
                    (true, true) => '█',
                    (true, false) => '▀',
                    (false, true) => '▄',
                    _ => ' ',
                });
            }
            if (colour) line.Append("\e[0m");
            lines.Add(line.ToString());
        }
        return lines;
    }
}
