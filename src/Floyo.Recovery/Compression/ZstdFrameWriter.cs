using ZstdSharp;
using ZstdSharp.Unsafe;

namespace Floyo.Recovery.Compression;

/// <summary>
/// Writes one zstd frame with several workers: the system's libzstd when it is there (less CPU per byte),
/// ZstdSharp otherwise. Both write the same format; <see cref="FinishAsync"/> completes the frame, and a
/// writer disposed without it leaves an incomplete frame that the caller discards.
/// </summary>
public sealed class ZstdFrameWriter : IAsyncDisposable
{
    private readonly NativeZstdCompressionStream? _native;
    private readonly CompressionStream? _managed;
    private bool _finished;

    private ZstdFrameWriter(NativeZstdCompressionStream? native, CompressionStream? managed)
    {
        _native = native;
        _managed = managed;
    }

    /// <summary>"libzstd" or "ZstdSharp": which engine compresses.</summary>
    public string Engine => _native is not null ? "libzstd" : "ZstdSharp";

    /// <param name="parameters">advanced parameters on top of <paramref name="level"/> (e.g. BASE_BACKUP_ZSTD_PARAMETERS); null: the level's own.</param>
    public static ZstdFrameWriter Create(Stream destination, int level, int workers, bool allowNative = true, int bufferSize = 1 << 20, ZstdParameters? parameters = null)
    {
        if (allowNative && NativeZstd.Available)
        {
            return new ZstdFrameWriter(new NativeZstdCompressionStream(destination, level, workers, leaveOpen: true, parameters), null);
        }
        var managed = new CompressionStream(destination, level, bufferSize, leaveOpen: true);
        try
        {
            managed.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, workers);
            foreach (var (parameter, value) in (parameters ?? ZstdParameters.None).Settings())
            {
                managed.SetParameter((ZSTD_cParameter)parameter, value);
            }
        }
        catch
        {
            managed.Dispose();
            throw;
        }
        return new ZstdFrameWriter(null, managed);
    }

    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct) =>
        _native is not null ? _native.WriteAsync(data, ct) : _managed!.WriteAsync(data, ct);

    public async Task FinishAsync(CancellationToken ct)
    {
        if (_native is not null)
        {
            await _native.FinishAsync(ct);
        }
        else
        {
            // ZstdSharp ends its frame when disposed.
            await _managed!.DisposeAsync();
        }
        _finished = true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_native is not null)
        {
            await _native.DisposeAsync();
        }
        else if (!_finished)
        {
            await _managed!.DisposeAsync();
        }
    }
}
