using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;

namespace AuthServer.Tests.Infrastructure;

/// <summary>
/// A real logger provider that keeps every line in memory: the category, level, event, formatted message, each value
/// of the state, the exception with its inner ones, and every scope, as a log shipper would see them.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Text)> _lines = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyCollection<(string Category, LogLevel Level, string Text)> Lines => _lines;

    public string Text => string.Join('\n', _lines.Select(l => l.Text));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose() { }

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder().Append(category).Append(' ').Append(logLevel).Append(' ').Append(eventId).Append(": ")
                .Append(formatter(state, exception));
            AppendValues(text, state);
            if (exception is not null) text.Append(" | ").Append(exception);
            owner._scopes.ForEachScope((scope, builder) =>
            {
                builder.Append(" | scope ").Append(scope);
                AppendValues(builder, scope);
            }, text);
            owner._lines.Enqueue((category, logLevel, text.ToString()));
        }

        private static void AppendValues(StringBuilder text, object? state)
        {
            if (state is not IEnumerable<KeyValuePair<string, object?>> values) return;
            foreach (var (key, value) in values) text.Append(" | ").Append(key).Append('=').Append(value);
        }
    }
}
