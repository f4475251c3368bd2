namespace AuthServer.Cli.Terminal;

/// <summary>
/// The live status line. On a terminal it spins and rewrites one line in place; elsewhere (a pipe, a log) it prints a
/// line per change of text, so a log shows each state once.
/// </summary>
public sealed class Spinner : IAsyncDisposable
{
    private static readonly string[] Frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    private static readonly TimeSpan FrameTime = TimeSpan.FromMilliseconds(100);

    private readonly Output _output;
    private readonly ITimer? _timer;
    private readonly Lock _lock = new();
    private string _text = "";
    private int _frame;
    private bool _done;

    public Spinner(Output output, TimeProvider time)
    {
        _output = output;
        if (output.IsTerminal) _timer = time.CreateTimer(_ => Draw(advance: true), null, FrameTime, FrameTime);
    }

    public void Update(string text)
    {
        lock (_lock)
        {
            if (_done || text == _text) return;
            _text = text;
            if (_output.IsTerminal) Draw(advance: false);
            else _output.Line(text);
        }
    }

    /// <summary>Replaces the spinner by a final line (a tick or a cross) and stops it.</summary>
    public void Finish(string text)
    {
        lock (_lock)
        {
            if (_done) return;
            _done = true;
            _timer?.Dispose();
            if (_output.IsTerminal) _output.Writer.Write("\r\e[2K");
            _output.Line(text);
            _output.Writer.Flush();
        }
    }

    /// <summary>Clears the status line so that text printed next starts on a clean line.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            if (_output.IsTerminal && !_done) _output.Writer.Write("\r\e[2K");
            _text = "";
        }
    }

    private void Draw(bool advance)
    {
        lock (_lock)
        {
            if (_done || _text.Length == 0) return;
            if (advance) _frame = (_frame + 1) % Frames.Length;
            _output.Writer.Write($"\r\e[2K{_output.Cyan(Frames[_frame])} {_text}");
            _output.Writer.Flush();
        }
    }

    public ValueTask DisposeAsync()
    {
        _timer?.Dispose();
        return ValueTask.CompletedTask;
    }
}
