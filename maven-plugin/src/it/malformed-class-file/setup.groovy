// A class file that no compiler wrote: a truncated header, put where the plugin will find it.
def file = new File(basedir, 'target/classes/sample/Broken.class')
file.parentFile.mkdirs()
file.bytes = [0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 61, 0, 99] as byte[]
return true
