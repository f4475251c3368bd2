using AuthServer.Tokens;
using Microsoft.Extensions.Options;

namespace AuthServer.Hosting;

/// <summary>
/// Keeps the signing keys on schedule (<see cref="KeyRotationOptions"/>) and, on every node, reloads keys that another
/// node may have rotated.
/// </summary>
public sealed class KeyRotationWorker(SigningKeyStore keys, IOptions<KeyRotationOptions> options, TimeProvider clock, ILogger<KeyRotationWorker> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CheckInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await keys.RotateAsync(force: false, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogError(ex, "Signing key rotation check failed; trying again next period");
            }
        }
    }
}
